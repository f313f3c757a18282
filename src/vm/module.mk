vm_DEPS := image util
vm_LIBS := -ljansson
