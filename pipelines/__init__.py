"""Monitoring pipeline for schools with low results, unfavourable social conditions and VPR objectivity."""
