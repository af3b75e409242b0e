//! chat-server as a real process over 127.0.0.1. Lesson 04's whole suite
//! lives in `testkit::chat`, so that every chat server meant as a drop-in
//! replacement for this one (lessons 12 and 13) runs exactly the same checks.

testkit::chat_suite!(env!("CARGO_BIN_EXE_chat-server"));
