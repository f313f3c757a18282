control_DEPS := agent vm image store runtime sched net util
control_LIBS := -lcrypto -ljansson
