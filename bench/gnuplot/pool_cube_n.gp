# pool_cube_n.gp - pool_cube elements per second against n, log-log (bench/run.py writes the data).
# The suite's programs are solid lines, the ceilings (bench/ref) dashed black/grey, Python dotted red.
# Variables (gnuplot -e): datadir, out, subtitle, nsuite, nceiling, npython.
set terminal pngcairo size 1200,720 font "sans,11" noenhanced
set output out
set title "pool_cube: elements per second against n (higher is better)\n".subtitle noenhanced
set logscale xy
set format x "10^{%L}"
set format y "%.0e"
set termoption enhanced
set xlabel "n (elements cubed)"
set ylabel "elements per second"
set key outside right top noenhanced
set grid xtics ytics mytics
set datafile separator "\t"
set datafile missing "?"
suite = datadir."/pool_suite.dat"
ceiling = datadir."/pool_ceiling.dat"
python = datadir."/pool_python.dat"
# Colour-blind-safe colours for the programs; black and greys are kept for the ceilings.
suite_colours = "#9400d3 #009e73 #56b4e9 #e69f00 #c8b400 #0072b2 #d55e00 #cc79a7 #8c564b #17becf"
ceiling_colours = "#000000 #505050 #808080 #a8a8a8 #c0c0c0"
python_colours = "#c00000 #ff7f00 #a05050 #ff4040"
plot for [c=2:nsuite+1] suite using 1:c with linespoints lw 2 pt 7 ps 0.8 lc rgb word(suite_colours, c-1) title columnheader(c), \
     for [c=2:nceiling+1] ceiling using 1:c with linespoints lw 3 dt c pt 1 ps 1.2 lc rgb word(ceiling_colours, c-1) title columnheader(c), \
     for [c=2:npython+1] python using 1:c with linespoints lw 2 dt 3 pt 6 lc rgb word(python_colours, c-1) title columnheader(c)
