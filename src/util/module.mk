util_DEPS :=
util_LIBS :=
