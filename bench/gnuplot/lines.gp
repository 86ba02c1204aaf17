# lines.gp - one question, a few series against x (bench/run.py and bench/plot write the data).
# Every series has its own colour, point shape and dash (readable in greyscale too); the reference
# series are drawn like the others but named as such. Labels from annfile mark where lines cross.
# Variables (gnuplot -e): datafile (x, then one column per series, header = titles), annfile
# (x y "label" label_y: the crossing, its text and the height the text sits at), out, title, subtitle, xlabel, ylabel, logx, logy (0/1), nseries, colours, points,
# dashes, widths (one word each per series), ideal (0, or the core count: draws min(W, cores)).
set terminal pngcairo size 1100,650 font "sans,12" noenhanced
set output out
set title title."\n".subtitle
set xlabel xlabel
set ylabel ylabel
set key outside right top spacing 1.4 box opaque
set grid
set datafile separator "\t"
set datafile missing "?"
if (logx) { set logscale x; set format x "%.0e" } else { set xtics 1 }
if (logy) { set logscale y; set format y "%.0e" } else { set yrange [0:*] }
set samples 400
if (ideal > 0) {
    ideal(x) = x < ideal ? x : ideal
    plot ideal(x) with lines lw 6 lc rgb "#d0d0d0" title sprintf("ideal: min(W, %d cores)", ideal), \
         for [c=2:nseries+1] datafile using 1:c with linespoints lw word(widths, c-1) dt int(word(dashes, c-1)) \
             pt int(word(points, c-1)) ps 1.6 lc rgb word(colours, c-1) title columnheader(c), \
         annfile using 1:2 with points pt 6 ps 2.5 lc rgb "#202020" notitle, \
         annfile using 1:4:3 with labels font ",10" tc rgb "#202020" notitle
} else {
    plot for [c=2:nseries+1] datafile using 1:c with linespoints lw word(widths, c-1) dt int(word(dashes, c-1)) \
             pt int(word(points, c-1)) ps 1.6 lc rgb word(colours, c-1) title columnheader(c), \
         annfile using 1:2 with points pt 6 ps 2.5 lc rgb "#202020" notitle, \
         annfile using 1:4:3 with labels font ",10" tc rgb "#202020" notitle
}
