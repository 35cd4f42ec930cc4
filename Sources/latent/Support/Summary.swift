import FileIO

/// Prints a batch's summary (`BatchSummary`): warnings and failures and the count line on
/// stderr (the count line unless --quiet, always when something failed), the JSON on stdout.
extension BatchSummary {
    func report(quiet: Bool, json printJSON: Bool) {
        for line in messageLines { printError(line) }
        if !quiet || !failures.isEmpty { printError(countLine) }
        if printJSON { print(json) }
    }
}
