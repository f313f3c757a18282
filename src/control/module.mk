control_DEPS := agent vm image store runtime sched util
control_LIBS := -lcrypto -ljansson
