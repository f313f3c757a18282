agent_DEPS := vm image runtime util
agent_LIBS := -ljansson
