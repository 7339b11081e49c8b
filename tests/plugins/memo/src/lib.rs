//! Keeps a memo in its own data directory: `remember` (payload `text`)
//! writes it, `recall` prints `memo: TEXT` or `no memo`, and `peek`
//! (payload `path`) prints what reading any path gives: `read: TEXT` or
//! `cannot read: ERROR`.

use precept_guest::prelude::*;

precept_guest::capabilities! {
    data("the memo, kept between runs");
}

#[derive(Default)]
struct Memo;

impl Plugin for Memo {
    fn setup(&mut self) -> Result<(), String> {
        for name in ["remember", "recall", "peek"] {
            events::subscribe(name);
        }
        Ok(())
    }

    fn on_event(&mut self, event: &Event) -> Result<Flow, String> {
        let dir = capabilities::data_dir().ok_or("no data directory")?;
        let memo = dir.join("memo.txt");
        match event.name.as_str() {
            "remember" => {
                let text: String = event.get("text").unwrap_or_default();
                std::fs::write(&memo, text).map_err(|e| e.to_string())?;
            }
            "recall" => match std::fs::read_to_string(&memo) {
                Ok(text) => println!("memo: {text}"),
                Err(_) => println!("no memo"),
            },
            "peek" => {
                let path: String = event.get("path").unwrap_or_default();
                match std::fs::read_to_string(&path) {
                    Ok(text) => println!("read: {text}"),
                    Err(error) => println!("cannot read: {error}"),
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

precept_guest::export!(Memo);
