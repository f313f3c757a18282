agent_DEPS := image runtime util
agent_LIBS := -ljansson
