image_DEPS := util
image_LIBS := -larchive -lcrypto -ljansson
