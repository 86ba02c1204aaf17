# bars.gp - bars in groups, the reference beside what is compared with it (bench/run.py and
# bench/plot write the data). Each kind of bar (a model, the raw primitive, Python) has its own
# colour and fill pattern, so the figure reads in greyscale; the legend sits below the plot, away
# from the value labels.
# datafile columns: x, value, kind (1..nkinds), "bar label", "value label"; groupfile: x, "group name".
# Variables (gnuplot -e): datafile, groupfile, out, title, subtitle, ylabel, logy, nkinds, kindnames,
# kindcolours, kindpatterns (one word each; quoted names may hold spaces), ytop (headroom factor),
# usedkinds (" 2 3 ": the kinds that have bars; only they are in the legend).
set terminal pngcairo size 1200,720 font "sans,12" noenhanced
set output out
set title title."\n".subtitle
set ylabel ylabel
if (logy) { set logscale y; set format y "%.0e" } else { set yrange [0:*] }
set grid ytics
set boxwidth 0.8
set xtics rotate by -35 left nomirror font ",11"
set bmargin 11
set key below horizontal box spacing 1.3 width 2
set datafile separator "\t"
set offsets 0.6, 0.6, 0, 0
stats datafile using 2 nooutput
if (logy) { set yrange [STATS_min / 3 : STATS_max * ytop] } else { set yrange [0 : STATS_max * ytop] }
top = logy ? STATS_max * ytop / 1.6 : STATS_max * ytop * 0.96
set style fill solid 1 border -1
plot datafile using 1:(NaN):xtic(4) with points notitle, \
     for [k=1:nkinds] datafile using ($3 == k ? $1 : NaN):2 with boxes \
         fs pattern int(word(kindpatterns, k)) border rgb "#202020" lc rgb word(kindcolours, k) title (strstrt(usedkinds, sprintf(" %d ", k)) > 0 ? word(kindnames, k) : ""), \
     datafile using 1:2:5 with labels offset 0,0.7 font ",9" notitle, \
     groupfile using 1:(top):2 with labels font ",12:Bold" notitle
