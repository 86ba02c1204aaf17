# timelines.mk - make timelines: the lab guide's pictures (docs/img/) drawn again from fresh runs
# with --trace and tools/timeline (the list and the commands are in tools/draw-timelines).

.PHONY: timelines

timelines: all
	@tools/draw-timelines
