#!/usr/bin/env python3
"""run_doc_blocks.py finds what it is there to find: a misspelled flag, a
missing file, a failing block; and honours its markers.

    CANDOR_SERVER_BIN=... CANDOR_CLI_BIN=... python3 tests/docs/checker_test.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_doc_blocks as rdb  # noqa: E402

SERVER = os.environ.get("CANDOR_SERVER_BIN", "")
CLI = os.environ.get("CANDOR_CLI_BIN", "")

DOC = """# A doc

Prose quotes `--listen`, `--metrics-listen` and `--top-k`; see TEAM-NOTES.md,
[the architecture](docs/ARCHITECTURE.md), [nothing](nowhere.md) and
`server/api/no_such_file.cc`.

<!-- not run: needs a Kubernetes cluster -->
```sh
kubectl apply -k deploy/k8s/overlays/single-node
```

```sh
candor-server --metrics-listen=127.0.0.1:9 --data_dir=x --listen=127.0.0.1:1 || true
candor search faces --topk 3 --threshold 0.5 || true
echo written > out.txt
```

```sh
test "$(cat out.txt)" = written
false
```

```
candor-bench --address=HOST:PORT   # a synopsis, never run
```
"""


@unittest.skipUnless(SERVER and CLI, "CANDOR_SERVER_BIN and CANDOR_CLI_BIN are needed")
class CheckerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.doc = str(Path(cls.tmp.name) / "doc.md")
        Path(cls.doc).write_text(DOC)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_markers_and_languages(self) -> None:
        blocks = rdb.blocks(self.doc)
        self.assertEqual([b.lang for b in blocks], ["sh", "sh", "sh", ""])
        self.assertEqual((blocks[0].directive, blocks[0].reason), ("not run", "needs a Kubernetes cluster"))
        self.assertIsNone(blocks[1].directive)

    def test_flags_the_binaries_do_not_have(self) -> None:
        problems = rdb.check_flags([self.doc], rdb.server_flags(SERVER), rdb.cli_flags(CLI), set())
        text = "\n".join(problems)
        self.assertIn("candor-server has no flag --metrics-listen", text)
        self.assertIn("candor has no flag --topk", text)
        self.assertIn("no candor binary has --metrics-listen", text)  # the prose
        for fine in ("--listen", "--data_dir", "--threshold", "--top-k"):
            self.assertNotIn(f" {fine}\n", text + "\n")
        self.assertEqual(len(problems), 3, text)

    def test_files_that_do_not_exist(self) -> None:
        problems = "\n".join(rdb.check_references([self.doc]))
        for missing in ("TEAM-NOTES.md", "nowhere.md", "server/api/no_such_file.cc"):
            self.assertIn(f"names {missing},", problems)
        self.assertNotIn("ARCHITECTURE", problems)

    def test_blocks_run_in_order_and_failures_are_reported(self) -> None:
        skipped, failures = [], []
        ran = rdb.run_doc(self.doc, os.path.abspath(SERVER), os.path.abspath(CLI), None, skipped, failures)
        self.assertEqual(ran, 2)
        self.assertEqual(len(skipped), 2)
        self.assertIn("needs a Kubernetes cluster", skipped[0])
        self.assertIn("no language", skipped[1])
        # The second block saw the first one's file and failed only at `false`.
        self.assertEqual(len(failures), 1)
        self.assertIn("exit 1", failures[0])
        self.assertIn("\nfalse\n", failures[0])


if __name__ == "__main__":
    unittest.main()
