-- teams: every team in the data (as currently attributed), with its contributions.
SELECT team, count() AS contributions
FROM contributions FINAL
WHERE team != ''
GROUP BY team
ORDER BY team
