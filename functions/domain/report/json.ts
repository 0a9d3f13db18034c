import { reportedExperimentFields, reportedTrialFields, type Report } from './model.js';

/**
 * The report as JSON: an array of experiments, each with a `trials` array (the
 * same fields as the XML), written one experiment opening and one trial at a time.
 * JSON.stringify escapes control characters and lone surrogates itself.
 */
export async function* renderJson(report: Report): AsyncGenerator<string> {
  yield '[';
  let firstSection = true;
  for await (const section of report.sections) {
    const fields = JSON.stringify(reportedExperimentFields(section.experiment));
    // `{"id":…}` without its closing brace, then the trials array.
    yield `${firstSection ? '' : ','}${fields.slice(0, -1)}${fields === '{}' ? '' : ','}"trials":[`;
    firstSection = false;
    let firstTrial = true;
    for await (const trial of section.trials) {
      yield `${firstTrial ? '' : ','}${JSON.stringify(reportedTrialFields(trial))}`;
      firstTrial = false;
    }
    yield ']}';
  }
  yield ']';
}
