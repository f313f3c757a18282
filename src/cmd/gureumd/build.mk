gureumd_MODULES := api control agent image store runtime util
