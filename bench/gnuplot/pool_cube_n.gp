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
plot for [c=2:nsuite+1] suite using 1:c with linespoints lw 2 pt 7 ps 0.8 lc c-1 title columnheader(c), \
     for [c=2:nceiling+1] ceiling using 1:c with linespoints lw 2 dt c pt 1 lc rgb (c==2 ? "black" : "#707070") title columnheader(c), \
     for [c=2:npython+1] python using 1:c with linespoints lw 2 dt 3 pt 6 lc rgb (c==2 ? "#c00000" : c==3 ? "#ff7f00" : "#a05050") title columnheader(c)
