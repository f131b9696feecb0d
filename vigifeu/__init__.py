"""vigifeu: the command line and the offline training recipe (torch lives only under ``training``)."""
