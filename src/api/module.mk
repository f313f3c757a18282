api_DEPS := control agent image store runtime util
api_LIBS := -lmicrohttpd -lcurl -ljansson
