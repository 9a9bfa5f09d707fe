"""pyhello: ceph-mgr's `hello` module in Python, the test guest of tests/it/python.rs."""
from .module import Hello  # noqa: F401

MANIFEST = '''
description = "Greets, in Python"
[requests]
store = true
get = ["osd_map"]
health = true
'''
