//! `cid [--cid-version N] [--raw-leaves true|false] [--chunker size-N] FILE`: the file's CID as
//! Kubo's `add --only-hash` computes it, read in 1 MiB pieces. Prints one JSON line with the CID,
//! Kubo's Size, and the time spent (for bench/ipfs.mjs: build with `--release`).

use sandrun_ipfs::{AddOptions, FileAdder};
use std::io::Read;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("cid: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut options = AddOptions::default();
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--cid-version" => options = options.with_cid_version(value()?.parse()?)?,
            "--raw-leaves" => options = options.with_raw_leaves(value()?.parse()?),
            "--chunker" => options = options.with_chunker(&value()?)?,
            _ if file.is_none() && !arg.starts_with("--") => file = Some(arg),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    let path =
        file.ok_or("usage: cid [--cid-version N] [--raw-leaves B] [--chunker size-N] FILE")?;
    let mut input = std::fs::File::open(&path)?;
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut adder = FileAdder::new(&options);
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        adder.push(&buf[..n], &mut ());
    }
    let bytes = adder.file_len();
    let added = adder.finish(&mut ());
    let seconds = start.elapsed().as_secs_f64();
    println!(
        r#"{{"cid":"{}","size":{},"bytes":{bytes},"seconds":{seconds:.6}}}"#,
        added.cid, added.size
    );
    Ok(())
}
