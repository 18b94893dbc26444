"""The advisor: recommends VMs, containers or a hybrid for a workload, with reasons."""
