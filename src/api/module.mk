api_DEPS := control agent vm image store runtime util
api_LIBS := -lmicrohttpd -lcurl -lgnutls -ljansson
