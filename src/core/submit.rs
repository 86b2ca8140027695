//! Submitting a built job: its extensions prepare it, every problem that can be seen is reported
//! before anything is read or sent, the files are read and packaged (with the job hash the worker
//! will sign), and the package goes to the client's worker — or where an extension takes it.

use super::actions;
use super::boundary::error::{Code, Result, SdkError};
use super::boundary::platform;
use super::boundary::webcrypto::sha256_hex;
use super::client::Client;
use super::execution::{Execution, WorkerExecution};
use super::extension::{JobExtension, Packaged, SubmitOptions};
use super::package::package;
use super::spec::{FileSource, JobDraft, ResolvedJob};
use super::transport::{Body, CallOpts};
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;

pub async fn submit(
    client: Rc<Client>,
    draft: JobDraft,
    extensions: &[Rc<dyn JobExtension>],
    options: Option<SubmitOptions>,
) -> Result<Rc<dyn Execution>> {
    let options = options.unwrap_or_default();
    let (mut client, mut draft) = (client, draft);
    for e in extensions {
        (client, draft) = e.prepare(client, draft).await?;
    }
    let mut problems = draft.problems(false);
    for e in extensions {
        problems.extend(e.problems(&draft, extensions));
    }
    if !problems.is_empty() {
        return Err(SdkError::validation(problems).op("submit"));
    }
    let files = read_files(&draft).await.map_err(|e| e.op("submit"))?;
    let job = ResolvedJob::check(&draft, files)?;
    let pkg = package(&job.files, &job.manifest);
    let job_hash = sha256_hex(&pkg.hash_input).await?;
    let archive = platform::gzip(&pkg.tar).await?;
    let multipart = pkg.multipart(&archive, &job_hash);
    if platform::aborted(draft.signal.as_ref()) {
        return Err(
            SdkError::new(Code::Cancelled, "submit was aborted before sending").op("submit"),
        );
    }
    let body = Body::new(&multipart.content_type, multipart.body);
    let (archive, manifest): (Rc<[u8]>, Rc<str>) = (Rc::from(archive), Rc::from(pkg.manifest_json));
    for e in extensions {
        let job = Packaged {
            client: client.clone(),
            draft: &draft,
            job_hash: job_hash.clone(),
            body: body.clone(),
            archive: archive.clone(),
            manifest: manifest.clone(),
            extensions,
            options: &options,
        };
        if let Some(sent) = e.dispatch(job) {
            return sent.await;
        }
    }
    let opts = CallOpts {
        signal: draft.signal.clone(),
        on_progress: options.on_progress,
        ..Default::default()
    };
    let sent = actions::submit::submit(&client.http, body, &opts).await?;
    let status = actions::status::queued(&sent.job_id);
    Ok(WorkerExecution::new(
        client,
        sent.job_id,
        Some(job_hash),
        draft.signal.clone(),
        Some(status),
    ))
}

/// Reads every Blob and folder: the job's final files.
async fn read_files(draft: &JobDraft) -> Result<SortedMap<Vec<u8>>> {
    let mut files = SortedMap::new();
    for (dir, prefix) in &draft.directories {
        for (rel, bytes) in platform::read_directory(dir).await? {
            files.insert(format!("{prefix}{rel}"), bytes);
        }
    }
    for (path, src) in &draft.files {
        let bytes = match src {
            FileSource::Bytes(b) => b.to_vec(),
            FileSource::Blob(blob) => platform::read_blob(blob).await.map_err(|e| {
                SdkError::field(
                    format!("files[\"{path}\"]"),
                    format!("could not be read: {e}"),
                )
            })?,
        };
        files.insert(path.clone(), bytes);
    }
    Ok(files)
}
