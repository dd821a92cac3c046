fn main() {
    std::process::exit(deep_review::main_impl());
}
