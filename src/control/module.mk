control_DEPS := agent vm image store runtime util
control_LIBS := -ljansson
