"""The training workflow's steps (issue 4). Each step is a function of the job document that
Step Functions passes along; large data travels through the artifact store, never the job."""
