gureum-oci_MODULES := runtime util
