sched_DEPS := util
sched_LIBS :=
