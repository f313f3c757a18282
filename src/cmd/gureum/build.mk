gureum_MODULES := api sched util
