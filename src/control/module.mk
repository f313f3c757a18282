control_DEPS := agent image store runtime util
control_LIBS := -ljansson
