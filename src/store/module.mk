store_DEPS := util
store_LIBS := -lsqlite3 -ljansson -lcurl
