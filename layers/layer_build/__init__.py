"""How the three Lambda layers are built and measured (standard library only).

``sam build`` runs ``python3.12 -m layer_build`` in its copy of ``layers/`` (layers/Makefile), and
``make package-check`` runs ``python -m layer_build.packaging``: one code path for what is measured
and what is deployed. It lives beside the runtime package, never inside it: the layer ships
``layers/common/recs`` and nothing else of ours.
"""
