"""`ExportLauncher` as an asynchronous Lambda invocation of the export function.

Lambda queues the event and answers 202 at once; it retries a failed run twice on its own.
Every AWS fault leaves as `StoreUnavailableError` (`recs.adapters.faults`).
"""

from __future__ import annotations

import json
from typing import Any

from recs.adapters.faults import store_faults


class LambdaExportLauncher:
    def __init__(self, function_name: str, client: Any) -> None:
        self.function_name = function_name
        self._client = client

    def launch(self, receipt_id: str) -> None:
        # The event names the receipt only: no id or pseudonym in Lambda's event queue.
        with store_faults(self.function_name):
            self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps({"receiptId": receipt_id}).encode(),
            )
