api_DEPS := control agent vm image store runtime sched net util
api_LIBS := -lmicrohttpd -lcurl -lgnutls -ljansson
