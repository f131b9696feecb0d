"""The running edge worker: camera readers, the inference loop, health and the supervisor."""
