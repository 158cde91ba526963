"""`make bench`: the anchors and agentkeel measured in one run (see bench/README.md)."""
