agent_DEPS := vm image runtime net util
agent_LIBS := -ljansson
