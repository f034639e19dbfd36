"""`willump serve`: an Open Inference Protocol (KServe V2) server for saved pipelines."""
