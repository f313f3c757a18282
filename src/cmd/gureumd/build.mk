gureumd_MODULES := api control agent vm image store runtime sched net util
