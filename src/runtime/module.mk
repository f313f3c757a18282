runtime_DEPS := util
runtime_LIBS := -ljansson -lseccomp -lcap
