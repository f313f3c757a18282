net_DEPS := util
net_LIBS :=
