vm_DEPS := util
vm_LIBS := -ljansson
# the tests build the debian-vm master and its layers with the image module
vm_TEST_DEPS := image
