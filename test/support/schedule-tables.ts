/**
 * Schedules that convert exactly between systemd calendar expressions and cron: the unit tier
 * checks the conversion, the artifact tier that systemd and a cron implementation agree on the
 * run times.
 */

/** [systemd expression, the cron line it converts to]. */
export const SYSTEMD_TO_CRON: Array<[string, string]> = [
  ["*-*-* 03:00:00", "0 3 * * *"],
  ["Mon *-*-* 04:30:00", "30 4 * * 1"],
  ["daily", "0 0 * * *"],
  ["weekly", "0 0 * * 1"],
  ["hourly", "0 * * * *"],
  ["monthly", "0 0 1 * *"],
  ["quarterly", "0 0 1 */3 *"],
  ["*-*-* 02:15", "15 2 * * *"],
  ["Mon..Fri *-*-* 23:45:00", "45 23 * * 1-5"],
  ["Sat,Sun *-*-* 10:00", "0 10 * * 0,6"],
  ["Mon,Wed,Sun 06:00", "0 6 * * 0,1,3"],
  ["*-*-* 00/6:00:00", "0 */6 * * *"],
  ["*-*-* 01..10/3:30", "30 1-10/3 * * *"],
  ["*-*-* *:00/15:00", "*/15 * * * *"],
  ["*-*-01/2 03:00", "0 3 */2 * *"],
  ["*-*-01..07 04:00", "0 4 1-7 * *"],
  ["*-01,07-15 12:00", "0 12 15 1,7 *"],
  ["*-02-29 00:00", "0 0 29 2 *"],
  ["*-*-* 08,12,20:05", "5 8,12,20 * * *"],
];

/** [cron line, the systemd expression it converts to]. */
export const CRON_TO_SYSTEMD: Array<[string, string]> = [
  ["0 3 * * *", "*-*-* 03:00:00"],
  ["30 4 * * 1", "Mon *-*-* 04:30:00"],
  ["*/15 * * * *", "*-*-* *:00/15:00"],
  ["0 9-17/2 * * 1-5", "Mon..Fri *-*-* 09..17/2:00:00"],
  ["0 3 * * 7", "Sun *-*-* 03:00:00"],
  ["0 3 * * 0,6", "Sat,Sun *-*-* 03:00:00"],
  ["5 4 * jan,jul *", "*-01,07-* 04:05:00"],
  ["0 3 */2 * *", "*-*-01/2 03:00:00"],
  ["0 0 1-7 * *", "*-*-01..07 00:00:00"],
  ["0,30 */4 * * *", "*-*-* 00/4:00,30:00"],
  ["@weekly", "Sun *-*-* 00:00:00"],
  ["@monthly", "*-*-01 00:00:00"],
  ["@daily", "*-*-* 00:00:00"],
  ["10 2 * * MON-FRI", "Mon..Fri *-*-* 02:10:00"],
  ["0 5 * * 5-7", "Fri..Sun *-*-* 05:00:00"],
];
