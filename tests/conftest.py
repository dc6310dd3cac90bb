"""The folder of the tests' shared helpers (``metrics_reference``, ``attention_reference``): pytest puts it on
``sys.path`` because this file is here. The bundles' ``configs/`` are committed, not built at test start;
``tests/test_bundles.py`` (and ``scripts/test.sh``, with ``build --check``) checks that they are current."""
