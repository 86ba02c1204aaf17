# bars.gp - one bar per program variant, log scale (bench/run.py writes the data: label, value, group).
# group 1: the suite's programs, 2: raw primitives (bench/ref), 3: the notebook's Python.
# Variables (gnuplot -e): datafile, out, title, ylabel, subtitle.
set terminal pngcairo size 1200,680 font "sans,11" noenhanced
set output out
set title title."\n".subtitle
set ylabel ylabel
set logscale y
set format y "%.0e"
set grid ytics
set style fill solid 0.75 border -1
set boxwidth 0.7
set xtics rotate by -40 left nomirror
set bmargin 8
set key top right
set datafile separator "\t"
set yrange [*:*]
set offsets 0.5, 0.5, 0, 0
colour(g) = g == 1 ? 0x1f77b4 : g == 2 ? 0x404040 : 0xc00000
plot datafile using 0:2:(colour($3)):xtic(1) with boxes lc rgb variable notitle, \
     "" using 0:2:(sprintf("%.2g", $2)) with labels offset 0,0.8 font ",9" notitle, \
     NaN with boxes lc rgb "#1f77b4" title "suite program", \
     NaN with boxes lc rgb "#404040" title "raw primitive (bench/ref)", \
     NaN with boxes lc rgb "#c00000" title "notebook's Python"
