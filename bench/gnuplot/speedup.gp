# speedup.gp - pool_cube speedup against workers at one n (bench/run.py writes the data).
# Speedup = elements/s with W workers / elements/s with 1 worker of the same program. The grey
# line is the ideal on this machine, min(W, cores); the store ceilings are dashed black.
# Variables (gnuplot -e): datadir, out, subtitle, cores, scale_n, nsuite, nall.
set terminal pngcairo size 1100,680 font "sans,11" noenhanced
set output out
set title "pool_cube: speedup against workers at n = ".scale_n." (higher is better)\n".subtitle
set xlabel "workers (threads, processes or ranks)"
set ylabel "speedup over 1 worker"
set key outside right top
set grid
set xtics 1
set yrange [0:*]
set datafile separator "\t"
set datafile missing "?"
data = datadir."/speedup.dat"
ideal(x) = x < cores ? x : cores
set samples 400
suite_colours = "#9400d3 #009e73 #56b4e9 #e69f00 #c8b400 #0072b2 #d55e00 #cc79a7 #8c564b #17becf"
plot [0.8:*] ideal(x) with lines lw 3 lc rgb "#c8c8c8" title sprintf("ideal: min(W, %d cores)", cores), \
     for [c=2:nsuite+1] data using 1:c with linespoints lw 2 pt 7 lc rgb word(suite_colours, c-1) title columnheader(c), \
     for [c=nsuite+2:nall+1] data using 1:c with linespoints lw 3 dt 2 pt 1 lc rgb (c==nsuite+2 ? "black" : "#707070") title columnheader(c)
