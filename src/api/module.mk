api_DEPS := control agent vm image store runtime sched util
api_LIBS := -lmicrohttpd -lgnutls -ljansson
