"""A client generated from MapDepot's OpenAPI document (openapi-python-client, PyPI) against a live server (issue #12).

Generates the client into a scratch directory, then, through the generated code only: creates an export, reads it back
until it completes, lists it, and does the same through exporter-trigger's API. Prints one JSON line: {"ok": true, ...}
or {"ok": false, "failed": "<what>"}.

Usage: generated_client_test.py <document> <base URL> <token> <catalog record id> <scratch directory>
"""
import json
import os
import subprocess
import sys
import time


def main():
    document, base, token, record, scratch = sys.argv[1:6]
    generator = os.path.join(os.path.dirname(sys.executable), "openapi-python-client")
    out = os.path.join(scratch, "mapdepot_client")
    run = subprocess.run([generator, "generate", "--path", document, "--meta", "none", "--output-path", out], capture_output=True, text=True)
    if run.returncode != 0 or not os.path.isdir(out):
        return fail("generation: " + (run.stdout + run.stderr)[-2000:])
    sys.path.insert(0, scratch)
    from mapdepot_client import AuthenticatedClient
    from mapdepot_client.api.export import create_task, get_task_by_id, get_tasks
    from mapdepot_client.api.trigger import by_roi, get_job_status_by_id
    from mapdepot_client.models import CreateTaskRequest, ExportFromFeatures, TaskResponse

    client = AuthenticatedClient(base_url=base, token=token, prefix="", auth_header_name="x-api-key", timeout=None)
    ring = [[2.0, 46.0], [6.0, 46.0], [6.0, 49.0], [2.0, 49.0], [2.0, 46.0]]
    roi = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"maxResolutionDeg": 0.703125 / 16}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    request = CreateTaskRequest.from_dict(
        {"catalogRecordID": record, "domain": "RASTER", "artifactCRS": "4326", "webhooks": [], "ROI": roi, "description": "generated client"})
    created = create_task.sync_detailed(client=client, body=request)
    if created.status_code != 201 or not isinstance(created.parsed, TaskResponse):
        return fail(f"create: {created.status_code} {created.content[:500]!r}")
    task_id = created.parsed.id
    deadline = time.time() + 120
    task = created.parsed
    while str(task.status) not in ("TaskStatus.COMPLETED", "COMPLETED") and time.time() < deadline:
        time.sleep(0.2)
        task = get_task_by_id.sync(id=task_id, client=client)
        if not isinstance(task, TaskResponse):
            return fail(f"read back: {task!r}")
    status = getattr(task.status, "value", task.status)
    if status != "COMPLETED":
        return fail(f"task {task_id} is {status} after 120 s")
    if str(task.catalog_record_id) != record or task.description != "generated client":
        return fail(f"read back another task: {task.to_dict()}")
    kinds = sorted(getattr(a.type_, "value", a.type_) for a in task.artifacts)
    listed = get_tasks.sync(client=client)
    if not any(t.id == task_id for t in listed or []):
        return fail("the task is not in the list")

    triggered = by_roi.sync(client=client, body=ExportFromFeatures.from_dict({"dbId": record, "roi": roi}))
    job = getattr(triggered, "job_id", None)
    if job is None:
        return fail(f"trigger: {triggered!r}")
    job_status = get_job_status_by_id.sync(job_id=job, client=client)
    print(json.dumps({"ok": True, "task": task_id, "artifacts": kinds, "triggerJob": str(job),
                      "triggerStatus": getattr(job_status.status, "value", str(job_status.status))}))


def fail(what):
    print(json.dumps({"ok": False, "failed": what}))
    sys.exit(1)


if __name__ == "__main__":
    main()
