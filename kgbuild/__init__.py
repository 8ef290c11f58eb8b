"""Raw recommendation data -> validated tables -> two collaborative knowledge graphs -> a store.

kgbuild never imports torch, pykeen or ``model``: the store it writes is the whole hand-off.
"""
