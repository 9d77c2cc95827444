"""The cluster stage: bring up a cluster of a known topology, apply snippets, prove claims."""
