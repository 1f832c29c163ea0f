"""An OpenAI cookbook fine-tuning script, as written for api.openai.com, run against Sailfin.

Nothing here knows about Sailfin: the client is `OpenAI()`, which takes the base URL and key from
OPENAI_BASE_URL and OPENAI_API_KEY (tests/src/openai-sdk-e2e.test.ts sets them). The flow is the
cookbook's: upload the training file, start a job, poll it, read its events and checkpoints,
cancel a second job, pause and resume a third, then chat with the fine-tuned model.

argv: <training.jsonl> <base model> <n_epochs> <batch_size> <learning_rate_multiplier>
Prints one JSON object (what the test checks) as the last line of stdout.
"""

import json
import sys
import time

from openai import OpenAI

TERMINAL = ("succeeded", "failed", "cancelled")


def wait_for(client, job_id, statuses, timeout_s=600):
    """Polls the job until its status is one of `statuses` (or terminal); returns the job."""
    deadline = time.time() + timeout_s
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses or job.status in TERMINAL:
            return job
        if time.time() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status}")
        time.sleep(0.5)


def main() -> None:
    training_path, base_model, n_epochs, batch_size, multiplier = sys.argv[1:6]
    hyperparameters = {"n_epochs": int(n_epochs), "batch_size": int(batch_size),
                       "learning_rate_multiplier": float(multiplier)}
    client = OpenAI()
    out = {}

    # 1. Upload the training file.
    training_file = client.files.create(file=open(training_path, "rb"), purpose="fine-tune")
    training_file = client.files.wait_for_processing(training_file.id, poll_interval=0.5)
    out["file"] = {"id": training_file.id, "status": training_file.status, "bytes": training_file.bytes}

    # 2. Start the job and poll it until it ends.
    job = client.fine_tuning.jobs.create(
        model=base_model,
        training_file=training_file.id,
        suffix="py-cookbook",
        method={"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
    )
    out["created"] = {"id": job.id, "status": job.status}
    job = wait_for(client, job.id, TERMINAL)
    out["job"] = {"id": job.id, "status": job.status, "fine_tuned_model": job.fine_tuned_model,
                  "trained_tokens": job.trained_tokens, "result_files": job.result_files, "error": job.error and job.error.to_dict()}

    # 3. Its events and checkpoints (every page, as the SDK's iterators fetch them).
    events = [e for e in client.fine_tuning.jobs.list_events(fine_tuning_job_id=job.id, limit=10)]
    out["events"] = [{"id": e.id, "type": e.type, "message": e.message} for e in events]
    checkpoints = [c for c in client.fine_tuning.jobs.checkpoints.list(fine_tuning_job_id=job.id)]
    out["checkpoints"] = [{"id": c.id, "step": c.step_number, "model": c.fine_tuned_model_checkpoint} for c in checkpoints]
    out["jobs_listed"] = [j.id for j in client.fine_tuning.jobs.list(limit=2)]

    # 4. Cancel a second job.
    other = client.fine_tuning.jobs.create(model=base_model, training_file=training_file.id, hyperparameters=hyperparameters)
    cancelled = client.fine_tuning.jobs.cancel(other.id)
    out["cancel"] = {"answered": cancelled.status, "final": wait_for(client, other.id, TERMINAL).status}

    # 5. Pause a third job while it runs, then resume it: it still ends succeeded.
    third = client.fine_tuning.jobs.create(
        model=base_model, training_file=training_file.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {**hyperparameters, "n_epochs": 3}}})
    wait_for(client, third.id, ("running",))
    paused = client.fine_tuning.jobs.pause(third.id)
    settled = wait_for(client, third.id, ("paused",))
    resumed = client.fine_tuning.jobs.resume(third.id)
    final = wait_for(client, third.id, TERMINAL)
    out["pause"] = {"answered": paused.status, "settled": settled.status, "resumed": resumed.status,
                    "final": final.status, "fine_tuned_model": final.fine_tuned_model}

    # 6. Use the fine-tuned model.
    completion = client.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "say blue"}],
        temperature=0,
        max_tokens=32,
    )
    out["chat"] = {"model": completion.model, "content": completion.choices[0].message.content}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
