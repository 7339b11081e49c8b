//! A plain WASI command: a component of another world.

fn main() {
    println!("I am a command, not a plugin");
}
